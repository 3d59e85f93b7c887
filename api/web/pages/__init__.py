"""One module per role's pages, each an APIRouter of :class:`api.web.routing.UiRoute`."""

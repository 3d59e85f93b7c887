"""``python -m api.agent`` (``pythonw -m api.agent`` at Windows logon): the agent alone."""

from .main import main

if __name__ == "__main__":
    main()

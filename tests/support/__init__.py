"""Native test support: PKCS#11 wrapper modules around SoftHSM, built with gcc on demand."""

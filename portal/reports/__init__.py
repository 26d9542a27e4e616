"""Reports: operations, agent utilisation and sign-offs, as PDF and CSV."""

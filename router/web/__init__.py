"""The compliance review web page: held cases, analyst login, release / reject decisions."""

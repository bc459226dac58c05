"""The public register of awarded grants and the 360Giving open data."""

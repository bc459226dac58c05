"""The grants manager sets up funds, rounds and their assessment criteria."""

"""The weekly summary email: when it is due, what it says, how it is sent."""

"""The running service as a black box: started as a user starts it, spoken to over HTTP only."""

"""Web Push: the VAPID identity, the endpoint guard, the sender and the reminder dispatch."""

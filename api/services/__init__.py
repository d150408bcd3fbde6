"""What the API's routers and the web console both do: one function per action, so the rules
(roles aside, which api.auth checks) live in one place and the two front ends cannot drift."""

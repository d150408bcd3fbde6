"""The read model: what the API lists and shows, written by activities, never by workflows."""

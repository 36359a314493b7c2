"""Input no client should send: odd bodies, query strings and JSON types get a 4xx JSON answer."""

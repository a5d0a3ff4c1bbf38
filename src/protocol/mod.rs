//! Parsers of outside input, named by what they parse. Each is total: bad input is an error value, never a panic.

package handlers

// bridgeErrors maps the domain errors of this area to responses.
var bridgeErrors = []errorMapping{}

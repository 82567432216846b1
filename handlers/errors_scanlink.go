package handlers

// scanLinkErrors maps the domain errors of this area to responses.
var scanLinkErrors = []errorMapping{}

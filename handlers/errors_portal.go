package handlers

// portalErrors maps the domain errors of this area to responses.
var portalErrors = []errorMapping{}

package handlers

// settingsErrors maps the domain errors of this area to responses.
var settingsErrors = []errorMapping{}

package handlers

// billingErrors maps the domain errors of this area to responses.
var billingErrors = []errorMapping{}

package portal

// DialControl exposes the dial-time address check to the external tests.
var DialControl = dialControl

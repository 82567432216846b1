// Shared helpers of our pages. Each page script reads its settings from
// data- attributes, because the CSP forbids inline scripts.

// Posts the placement form into this frame on load, as Bitrix24 opens an
// app's page.
document.getElementById("placement").submit();

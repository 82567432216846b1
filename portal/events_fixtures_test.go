package portal

import (
	"net/url"
	"strings"
)

// Fixtures paraphrase the documented Bitrix24 payloads in their wire form:
// form-encoded bodies with PHP bracket keys and every scalar a string.
// Tokens, domains and names are placeholders.

const (
	fixtureMember   = "010b6886ebc2a1b9e8fb9b2f0d4d1c3e"
	fixtureAppToken = "51856fefc120afa4b628cc82d3935cce"
	fixtureDomain   = "example.bitrix24.com"
)

// formBody encodes pairs in order, as the Bitrix24 queue server does.
func fixtureBody(pairs ...string) string {
	var parts []string
	for i := 0; i+1 < len(pairs); i += 2 {
		parts = append(parts, url.QueryEscape(pairs[i])+"="+url.QueryEscape(pairs[i+1]))
	}
	return strings.Join(parts, "&")
}

// eventAuth is a full auth block of a user-triggered event.
func fixtureAuth(memberID, appToken string) []string {
	return []string{
		"auth[access_token]", "s6p6eclrryjd7b0d0wjvv8qkl0ffp7ae",
		"auth[expires]", "1773762761",
		"auth[expires_in]", "3600",
		"auth[scope]", "imconnector,imopenlines,im",
		"auth[domain]", fixtureDomain,
		"auth[server_endpoint]", "https://oauth.bitrix.info/rest/",
		"auth[status]", "F",
		"auth[client_endpoint]", "https://" + fixtureDomain + "/rest/",
		"auth[member_id]", memberID,
		"auth[user_id]", "27",
		"auth[application_token]", appToken,
	}
}

func fixtureEvent(pairs []string, memberID, appToken string) string {
	return fixtureBody(append(pairs, fixtureAuth(memberID, appToken)...)...)
}

// fixtureMessageAdd is ONIMCONNECTORMESSAGEADD with an operator text and,
// in a second message, two files (one image with its size in pixels).
func fixtureMessageAdd(connector string) []string {
	return []string{
		"event", "ONIMCONNECTORMESSAGEADD",
		"event_handler_id", "555",
		"data[CONNECTOR]", connector,
		"data[LINE]", "3",
		"data[MESSAGES][0][im][chat_id]", "1807",
		"data[MESSAGES][0][im][message_id]", "86497",
		"data[MESSAGES][0][message][user_id]", "27",
		"data[MESSAGES][0][message][text]", "[b]Anna Ops:[/b] [br]Good afternoon!",
		"data[MESSAGES][0][chat][id]", "wa:15550001111",
		"data[MESSAGES][1][im][chat_id]", "1807",
		"data[MESSAGES][1][im][message_id]", "86498",
		"data[MESSAGES][1][message][user_id]", "27",
		"data[MESSAGES][1][message][files][0][name]", "photo.jpg",
		"data[MESSAGES][1][message][files][0][type]", "image",
		"data[MESSAGES][1][message][files][0][link]", "https://" + fixtureDomain + "/~Xyz12#img.jpg",
		"data[MESSAGES][1][message][files][0][size]", "48211",
		"data[MESSAGES][1][message][files][0][width]", "800",
		"data[MESSAGES][1][message][files][0][height]", "600",
		"data[MESSAGES][1][message][files][1][name]", "price.pdf",
		"data[MESSAGES][1][message][files][1][type]", "file",
		"data[MESSAGES][1][message][files][1][link]", "https://" + fixtureDomain + "/~Pdf34",
		"data[MESSAGES][1][message][files][1][size]", "1024",
		"data[MESSAGES][1][chat][id]", "wa:15550001111",
		"ts", "1773759161",
	}
}

// fixtureMessageUpdate has message.id as a list; fixtureMessageDelete as a
// scalar, one element per external id.
func fixtureMessageUpdate(connector string) []string {
	return []string{
		"event", "ONIMCONNECTORMESSAGEUPDATE",
		"event_handler_id", "556",
		"data[CONNECTOR]", connector,
		"data[LINE]", "3",
		"data[MESSAGES][0][im][chat_id]", "1807",
		"data[MESSAGES][0][im][message_id]", "86497",
		"data[MESSAGES][0][message][id][0]", "3EB0C767D0A1",
		"data[MESSAGES][0][message][id][1]", "3EB0C767D0A2",
		"data[MESSAGES][0][message][text]", "[b]Anna Ops:[/b][br] corrected text",
		"data[MESSAGES][0][chat][id]", "wa:15550001111",
		"ts", "1773759200",
	}
}

func fixtureMessageDelete(connector string) []string {
	return []string{
		"event", "ONIMCONNECTORMESSAGEDELETE",
		"event_handler_id", "557",
		"data[CONNECTOR]", connector,
		"data[LINE]", "3",
		"data[MESSAGES][0][im][chat_id]", "1807",
		"data[MESSAGES][0][im][message_id]", "86497",
		"data[MESSAGES][0][message][id]", "3EB0C767D0A1",
		"data[MESSAGES][0][chat][id]", "wa:15550001111",
		"ts", "1773759300",
	}
}

// fixtureDialogFinish uses eventId in place of event_handler_id.
func fixtureDialogFinish(connector string) []string {
	return []string{
		"event", "ONIMCONNECTORDIALOGFINISH",
		"eventId", "1",
		"data[CONNECTOR]", connector,
		"data[LINE]", "3",
		"data[DATA][0][connector][connector_id]", connector,
		"data[DATA][0][connector][line_id]", "3",
		"data[DATA][0][connector][chat_id]", "wa:15550001111",
		"data[DATA][0][connector][user_id]", "585",
		"data[DATA][0][session][id]", "3282",
		"data[DATA][0][session][closed]", "Y",
		"data[DATA][0][session][parent_id]", "0",
		"data[DATA][0][session][close_term]", "10",
		"data[DATA][0][chat][id]", "wa:15550001111",
		"data[DATA][0][user][id]", "585",
		"ts", "1714649632",
	}
}

func fixtureStatusDelete(connector string) []string {
	return []string{
		"event", "ONIMCONNECTORSTATUSDELETE",
		"event_handler_id", "560",
		"data[connector]", connector,
		"data[line]", "3",
		"ts", "1714649700",
	}
}

func fixtureLineDelete() []string {
	return []string{"event", "ONIMCONNECTORLINEDELETE", "event_handler_id", "561", "data", "107", "ts", "1714649800"}
}

// fixtureAppInstall is ONAPPINSTALL with the refresh token, which only this
// event and ONAPPUPDATE carry.
func fixtureAppInstall() []string {
	return []string{
		"event", "ONAPPINSTALL",
		"event_handler_id", "1",
		"data[VERSION]", "1",
		"data[ACTIVE]", "Y",
		"data[INSTALLED]", "Y",
		"data[LANGUAGE_ID]", "en",
		"ts", "1696527000",
		"auth[refresh_token]", "rt0000000000000000000000000000000",
	}
}

// fixtureAppUninstall has the token-less auth block of ONAPPUNINSTALL.
func fixtureAppUninstall(memberID, appToken, clean string) string {
	return fixtureBody(
		"event", "ONAPPUNINSTALL",
		"data[LANGUAGE_ID]", "en",
		"data[CLEAN]", clean,
		"ts", "1696527100",
		"auth[domain]", fixtureDomain,
		"auth[server_endpoint]", "https://oauth.bitrix.info/rest/",
		"auth[client_endpoint]", "https://"+fixtureDomain+"/rest/",
		"auth[member_id]", memberID,
		"auth[application_token]", appToken,
	)
}

func fixtureAppUpdate() []string {
	return []string{
		"event", "ONAPPUPDATE",
		"data[VERSION]", "2.1.0",
		"data[PREVIOUS_VERSION]", "2.0.3",
		"data[LANGUAGE_ID]", "en",
		"ts", "1696527200",
		"auth[refresh_token]", "rt1111111111111111111111111111111",
	}
}

// fixtureAppPayment has no application_token, as documented.
func fixtureAppPayment(memberID string) string {
	return fixtureBody(
		"event", "ONAPPPAYMENT",
		"data[CODE]", "vendor.whatsapp",
		"data[VERSION]", "1",
		"data[STATUS]", "P",
		"data[PAYMENT_EXPIRED]", "N",
		"data[DAYS]", "28",
		"data[LANGUAGE_ID]", "en",
		"ts", "1696527300",
		"auth[domain]", fixtureDomain,
		"auth[member_id]", memberID,
	)
}

// fixtureInstallerBody is the body of an older installer POST (no
// APPLICATION_TOKEN); DOMAIN, PROTOCOL, LANG and APP_SID are in the query.
func fixtureInstallerBody() string {
	return "AUTH_ID=4991e866000000000000000000000000&AUTH_EXPIRES=3600" +
		"&REFRESH_ID=39101067000000000000000000000000&member_id=" + fixtureMember +
		"&status=L&PLACEMENT=DEFAULT&PLACEMENT_OPTIONS=%7B%22any%22%3A%2228%5C%2F%22%7D"
}

// fixtureSettingConnectorBody is the SETTING_CONNECTOR placement POST.
func fixtureSettingConnectorBody() string {
	return fixtureBody(
		"AUTH_ID", "5a7c0000000000000000000000000000",
		"AUTH_EXPIRES", "3600",
		"REFRESH_ID", "4a6b0000000000000000000000000000",
		"SERVER_ENDPOINT", "https://oauth.bitrix.info/rest/",
		"status", "F",
		"member_id", fixtureMember,
		"APPLICATION_TOKEN", fixtureAppToken,
		"APPLICATION_SCOPE", "imopenlines,placement",
		"PLACEMENT", "SETTING_CONNECTOR",
		"PLACEMENT_OPTIONS", `{"CONNECTOR":"acme_wa","LINE":"3","STATUS":false,"ACTIVE_STATUS":true,`+
			`"CONNECTION_STATUS":false,"REGISTER_STATUS":false,"ERROR_STATUS":false,`+
			`"URI":"/contact_center/connector/?ID=acme_wa&IFRAME=Y&IFRAME_TYPE=SIDE_SLIDER"}`,
	)
}

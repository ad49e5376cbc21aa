package handlers

import "net/url"

// savedParam is the query parameter by which a save tells the page it sends
// the browser to (post, redirect, get) what it did, for a notice such as
// "Saved Nia New: admin, policy Readers.". Its value selects one of a few
// fixed messages, or names the record just saved, which the page loads
// anyway and describes from what is stored. Nothing the browser sends is
// shown back, so a crafted link can at most state a fact about a record its
// reader may see; an unknown value shows nothing. (A one-shot flash in the
// session would cost two session writes per save.)
const savedParam = "saved"

// savedURL is path with the savedParam what.
func savedURL(path, what string) string {
	return path + "?" + savedParam + "=" + url.QueryEscape(what)
}

// selfDemoted is savedParam on the project home after admins took
// their own admin role away.
const selfDemoted = "role"

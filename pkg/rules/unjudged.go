package rules

import "slices"

// Unjudged is a line of the HA guide that no rule fills in or judges, with
// the reason, so that the documentation accounts for every line.
type Unjudged struct {
	// Section is the heading of the guide the line is under.
	Section string
	// Item is the line, as the guide writes it.
	Item string
	// Why says why no rule judges it.
	Why string
}

// unjudged are the guide's lines no rule judges.
var unjudged = []Unjudged{
	{Section: secIngressHealth, Item: "`nginx.ingress.kubernetes.io/upstream-hash-by: \"$remote_addr\"`",
		Why: "Neither filled in nor judged. It is affinity at the ingress: ingress-nginx hashes each client address onto one api pod " +
			"(consistently, so a lost pod moves only its own clients), bypassing the Service and its sessionAffinity. " +
			"A default cannot know what stands in front of the controller: behind a NAT gateway, or a cloud load balancer that does not pass the client address on, " +
			"every request hashes alike and one pod takes the whole load, the hot spot api-service-session-affinity denies at the Service. " +
			"Nor is it warned of: the guide gives it, and where the controller sees real client addresses it is the user's choice to make."},
}

// NotJudged lists the guide's lines no rule judges, in the guide's order.
func NotJudged() []Unjudged { return slices.Clone(unjudged) }

package server

import (
	"strings"

	"github.com/go-logr/logr"
)

// httpErrorLog sends http.Server's own messages (TLS handshake failures, bad
// requests) to the structured log. A handshake that ends in EOF is a client
// that connected and left (a TCP probe, a port scan) and is logged at debug;
// any other handshake error, such as a client that does not trust the serving
// certificate (a wrong caBundle), at info.
type httpErrorLog struct{ log logr.Logger }

func (w httpErrorLog) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	if strings.Contains(msg, "TLS handshake error") && strings.HasSuffix(msg, ": EOF") {
		w.log.V(1).Info("webhook connection closed during the TLS handshake", "detail", msg)
	} else {
		w.log.Info("webhook listener", "detail", msg)
	}
	return len(p), nil
}

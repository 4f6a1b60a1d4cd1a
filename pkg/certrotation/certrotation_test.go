package certrotation

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
)

func TestParseSecret(t *testing.T) {
	got, err := ParseSecret("laminar-ha-system/laminar-ha-webhook-serving")
	require.NoError(t, err)
	assert.Equal(t, types.NamespacedName{Namespace: "laminar-ha-system", Name: "laminar-ha-webhook-serving"}, got)
	for _, bad := range []string{"", "name", "/name", "ns/", "a/b/c"} {
		_, err := ParseSecret(bad)
		assert.Error(t, err, bad)
	}
}

func valid() Options {
	return Options{
		Secret:  types.NamespacedName{Namespace: "ns", Name: "s"},
		Service: "svc", WebhookConfigurations: "wh",
		CAValidity: 87600 * time.Hour, ServingValidity: 8760 * time.Hour, RenewBefore: 2160 * time.Hour, CheckInterval: time.Hour,
	}
}

// Options that could never work are refused before anything starts.
func TestOptionsRefused(t *testing.T) {
	require.NoError(t, valid().validate())
	for name, change := range map[string]func(*Options){
		"no secret":                 func(o *Options) { o.Secret = types.NamespacedName{} },
		"no service":                func(o *Options) { o.Service = "" },
		"no configurations":         func(o *Options) { o.WebhookConfigurations = "" },
		"zero validity":             func(o *Options) { o.ServingValidity = 0 },
		"renew before issue":        func(o *Options) { o.RenewBefore = o.ServingValidity },
		"renew before the CA issue": func(o *Options) { o.CAValidity = o.RenewBefore },
		"no check interval":         func(o *Options) { o.CheckInterval = 0 },
	} {
		o := valid()
		change(&o)
		assert.Error(t, o.validate(), name)
		_, err := New(&rest.Config{Host: "https://127.0.0.1:1"}, o)
		assert.Error(t, err, name)
	}
}

package manifest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/laminar/ha-webhook/pkg/manifest"
)

type doc struct {
	Index     int
	Separator string
	Text      string
	Line      int
}

func split(in string) []doc {
	var out []doc
	for _, d := range manifest.Split([]byte(in)) {
		out = append(out, doc{d.Index, string(d.Separator), string(d.Text), d.Line})
	}
	return out
}

func TestSplit(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []doc
	}{
		{name: "one document", in: "a: 1\nb: 2\n", want: []doc{{1, "", "a: 1\nb: 2\n", 1}}},
		{name: "no final newline", in: "a: 1", want: []doc{{1, "", "a: 1", 1}}},
		{name: "empty", in: "", want: nil},
		{name: "two documents", in: "a: 1\n---\nb: 2\n", want: []doc{{1, "", "a: 1\n", 1}, {2, "---\n", "b: 2\n", 3}}},
		{name: "leading separator, as helm writes", in: "---\n# Source: x.yaml\na: 1\n---\nb: 2\n",
			want: []doc{{1, "---\n", "# Source: x.yaml\na: 1\n", 2}, {2, "---\n", "b: 2\n", 5}}},
		{name: "comment-only preamble is no document", in: "# licence\n\n---\na: 1\n",
			want: []doc{{0, "", "# licence\n\n", 1}, {1, "---\n", "a: 1\n", 4}}},
		{name: "separator with a comment or blanks", in: "a: 1\n--- # next\nb: 2\n---   \nc: 3\n",
			want: []doc{{1, "", "a: 1\n", 1}, {2, "--- # next\n", "b: 2\n", 3}, {3, "---   \n", "c: 3\n", 5}}},
		{name: "not separators", in: "a: |\n  ---\n----\n---x\n", want: []doc{{1, "", "a: |\n  ---\n----\n---x\n", 1}}},
		{name: "trailing separator", in: "a: 1\n---\n", want: []doc{{1, "", "a: 1\n", 1}, {2, "---\n", "", 3}}},
		{name: "CRLF", in: "a: 1\r\n---\r\nb: 2\r\n", want: []doc{{1, "", "a: 1\r\n", 1}, {2, "---\r\n", "b: 2\r\n", 3}}},
		{name: "byte order mark", in: "\xef\xbb\xbfa: 1\n", want: []doc{{1, "", "a: 1\n", 1}}},
		{name: "empty documents keep their numbers", in: "---\n---\na: 1\n",
			want: []doc{{1, "---\n", "", 2}, {2, "---\n", "a: 1\n", 3}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, split(c.in))
		})
	}
}

func TestDocumentHelpers(t *testing.T) {
	docs := manifest.Split([]byte("---\n# Source: laminar/templates/api.yaml\n\n# more\napiVersion: v1\nkind: X\n---\n# only a comment\n"))
	require.Len(t, docs, 2)
	assert.Equal(t, "laminar/templates/api.yaml", docs[0].HelmSource())
	assert.Equal(t, 5, docs[0].ContentLine())
	assert.False(t, docs[0].Blank())
	assert.True(t, docs[1].Blank())
	assert.Equal(t, 0, docs[1].ContentLine())
	assert.Empty(t, docs[1].HelmSource())
}

func TestObjects(t *testing.T) {
	read := func(t *testing.T, in string) manifest.Content {
		t.Helper()
		docs := manifest.Split([]byte(in))
		require.Len(t, docs, 1)
		c, err := docs[0].Objects()
		require.NoError(t, err)
		return c
	}
	t.Run("deployment", func(t *testing.T) {
		c := read(t, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n")
		require.Len(t, c.Objects, 1)
		o := c.Objects[0]
		assert.False(t, c.List)
		assert.Equal(t, 0, o.Item)
		assert.Equal(t, "Deployment", o.GVK.Kind)
		assert.NotNil(t, o.Typed)
		assert.NoError(t, o.Err)
	})
	t.Run("other kinds are objects, not typed", func(t *testing.T) {
		c := read(t, "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n")
		require.Len(t, c.Objects, 1)
		assert.Nil(t, c.Objects[0].Typed)
		assert.NoError(t, c.Objects[0].Err)
	})
	t.Run("apps/v1beta1 is another kind", func(t *testing.T) {
		c := read(t, "apiVersion: apps/v1beta1\nkind: Deployment\n")
		require.Len(t, c.Objects, 1)
		assert.Nil(t, c.Objects[0].Typed)
	})
	for _, in := range []string{"# nothing\n", "just a string\n", "- a\n- b\n", "name: values.yaml\nreplicas: 3\n", "apiVersion: v2\nname: chart\n"} {
		t.Run("no object: "+in, func(t *testing.T) {
			assert.Empty(t, read(t, in).Objects)
		})
	}
	t.Run("wrong type", func(t *testing.T) {
		c := read(t, "apiVersion: apps/v1\nkind: StatefulSet\nspec: {replicas: many}\n")
		require.Len(t, c.Objects, 1)
		assert.ErrorContains(t, c.Objects[0].Err, "spec.replicas")
	})
	t.Run("List", func(t *testing.T) {
		c := read(t, `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: a}
  - not an object
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: b}
  - apiVersion: apps/v1
    kind: StatefulSet
    spec: {replicas: many}
  - {}
`)
		assert.True(t, c.List)
		require.Len(t, c.Objects, 3)
		assert.Equal(t, []int{1, 3, 4}, []int{c.Objects[0].Item, c.Objects[1].Item, c.Objects[2].Item})
		assert.NotNil(t, c.Objects[1].Typed)
		assert.Error(t, c.Objects[2].Err)
	})
	t.Run("typed list items take the list's kind", func(t *testing.T) {
		c := read(t, `{"apiVersion": "apps/v1", "kind": "StatefulSetList", "items": [{"metadata": {"name": "a"}}]}`)
		require.Len(t, c.Objects, 1)
		assert.Equal(t, "StatefulSet", c.Objects[0].GVK.Kind)
		assert.Equal(t, "apps/v1", c.Objects[0].GVK.GroupVersion().String())
		assert.NotNil(t, c.Objects[0].Typed)
	})
	t.Run("a kind ending in List without items is an object", func(t *testing.T) {
		c := read(t, "apiVersion: example.com/v1\nkind: AllowList\nspec: {}\n")
		assert.False(t, c.List)
		require.Len(t, c.Objects, 1)
	})
	t.Run("not YAML", func(t *testing.T) {
		_, err := manifest.Split([]byte("a: [\n"))[0].Objects()
		assert.ErrorContains(t, err, "not YAML or JSON")
	})
}

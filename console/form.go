package console

import (
	"net/http"
	"reflect"
	"strings"
)

// decodeForm sets the string fields of the struct dst points to from the
// posted form, each from the input named as the field's JSON name (the
// names the admin API and provisioning files use too), trimmed; inputs the
// form does not have leave their field alone. A field added to a resource
// then needs only its input on the page.
func decodeForm(r *http.Request, dst any) {
	v := reflect.ValueOf(dst).Elem()
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || f.Type.Kind() != reflect.String || !r.Form.Has(name) {
			continue
		}
		v.Field(i).SetString(strings.TrimSpace(r.PostFormValue(name)))
	}
}

package conformance

import (
	"fmt"
	"reflect"
	"time"
)

var timeType = reflect.TypeFor[time.Time]()

// diff compares want and got field by field and describes every
// difference, naming the field by its path. Times are equal when both are
// zero or both are non-zero and within prec of each other, and got's
// must be in time.UTC when want's is; a nil map or
// slice equals an empty one; unexported fields are ignored.
func diff(want, got any, prec time.Duration) []string {
	var out []string
	diffValue(&out, "", reflect.ValueOf(want), reflect.ValueOf(got), prec)
	return out
}

func diffValue(out *[]string, path string, w, g reflect.Value, prec time.Duration) {
	if !w.IsValid() || !g.IsValid() {
		if w.IsValid() != g.IsValid() {
			*out = append(*out, fmt.Sprintf("%s: want %v, got %v", pathOr(path), show(w), show(g)))
		}
		return
	}
	if w.Type() != g.Type() {
		*out = append(*out, fmt.Sprintf("%s: want type %s, got %s", pathOr(path), w.Type(), g.Type()))
		return
	}
	if w.Type() == timeType {
		wt, gt := w.Interface().(time.Time), g.Interface().(time.Time)
		if !sameTime(wt, gt, prec) {
			*out = append(*out, fmt.Sprintf("%s: want %s, got %s (within %s)", pathOr(path), showTime(wt), showTime(gt), prec))
		} else if wt.Location() == time.UTC && gt.Location() != time.UTC {
			*out = append(*out, fmt.Sprintf("%s: want a time in time.UTC (stores return UTC times), got location %q", pathOr(path), gt.Location()))
		}
		return
	}
	switch w.Kind() {
	case reflect.Pointer, reflect.Interface:
		if w.IsNil() || g.IsNil() {
			if w.IsNil() != g.IsNil() {
				*out = append(*out, fmt.Sprintf("%s: want %v, got %v", pathOr(path), show(w), show(g)))
			}
			return
		}
		diffValue(out, path, w.Elem(), g.Elem(), prec)
	case reflect.Struct:
		for i := range w.NumField() {
			f := w.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			diffValue(out, join(path, f.Name), w.Field(i), g.Field(i), prec)
		}
	case reflect.Map:
		if w.Len() != g.Len() {
			*out = append(*out, fmt.Sprintf("%s: want %v, got %v", pathOr(path), show(w), show(g)))
			return
		}
		for _, k := range w.MapKeys() {
			gv := g.MapIndex(k)
			if !gv.IsValid() {
				*out = append(*out, fmt.Sprintf("%s[%v]: missing, want %v", pathOr(path), k, show(w.MapIndex(k))))
				continue
			}
			diffValue(out, fmt.Sprintf("%s[%q]", path, fmt.Sprint(k)), w.MapIndex(k), gv, prec)
		}
	case reflect.Slice, reflect.Array:
		if w.Len() != g.Len() {
			*out = append(*out, fmt.Sprintf("%s: want %v, got %v", pathOr(path), show(w), show(g)))
			return
		}
		for i := range w.Len() {
			diffValue(out, fmt.Sprintf("%s[%d]", path, i), w.Index(i), g.Index(i), prec)
		}
	default:
		if !reflect.DeepEqual(w.Interface(), g.Interface()) {
			*out = append(*out, fmt.Sprintf("%s: want %v, got %v", pathOr(path), show(w), show(g)))
		}
	}
}

// sameTime reports whether a and b are the same instant within prec, a
// zero time matching only a zero time.
func sameTime(a, b time.Time, prec time.Duration) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() == b.IsZero()
	}
	d := a.Sub(b)
	if d < 0 {
		d = -d
	}
	return d < prec
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func pathOr(path string) string {
	if path == "" {
		return "value"
	}
	return path
}

func show(v reflect.Value) string {
	if !v.IsValid() {
		return "<nil>"
	}
	if v.Kind() == reflect.String {
		return fmt.Sprintf("%q", v.String())
	}
	if v.CanInterface() {
		return fmt.Sprintf("%v", v.Interface())
	}
	return v.String()
}

func showTime(t time.Time) string {
	if t.IsZero() {
		return "zero time"
	}
	return t.Format(time.RFC3339Nano)
}

package media

import (
	"context"
	"testing"
)

func TestParseESpeakVoices(t *testing.T) {
	table := []byte(`Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  cmn-latn-pinyin --/M      Chinese_(Mandarin,_latin_as_Pinyin) sit/cmn-Latn-pinyin  (zh-cmn 5)(zh 5)
 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)
 5  variant         --/F      female3            !v/f3                
`)
	got := ParseESpeakVoices(table)
	if len(got) != 3 {
		t.Fatalf("%d voices: %+v", len(got), got)
	}
	if v := got[0]; v.Name != "cmn-latn-pinyin" || v.Description != "Chinese (Mandarin, latin as Pinyin)" || len(v.Aliases) != 2 || v.Aliases[0] != "zh-cmn" || v.Aliases[1] != "zh" {
		t.Errorf("first: %+v", v)
	}
	if v := got[1]; v.Name != "en-us" || len(v.Aliases) != 1 || v.Aliases[0] != "en" {
		t.Errorf("second: %+v", v)
	}
	if v := got[2]; v.Name != "f3" {
		t.Errorf("variant: %+v", v)
	}
}

// TestESpeakVoices: the installed espeak-ng has the voices the server
// chooses by itself.
func TestESpeakVoices(t *testing.T) {
	vs, err := (&ESpeak{}).Voices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{VoiceMandarin, VoiceEnglish, "en-us+f3"} {
		if !vs.Has(v) {
			t.Errorf("%s is not installed", v)
		}
	}
	if vs.Has("en+") || vs.Has("+f3") || vs.Has("nope") {
		t.Error("Has accepts what is not a voice")
	}
}

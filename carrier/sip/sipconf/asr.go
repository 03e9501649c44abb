package sipconf

import (
	"net/url"
	"regexp"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/internal/fielderr"
)

// ASR engines.
const (
	ASRPocketSphinx = "pocketsphinx"
	ASRHTTP         = "http"
	ASRNone         = "none"
)

// MaxASRTimeout bounds ASR.Timeout.
const MaxASRTimeout = time.Minute

// ASR configures speech recognition on SIP legs (the provisioning file's
// sip.asr). The carrier builds the recogniser from it (sip.NewRecognizer).
type ASR struct {
	// Engine is pocketsphinx (default, when it is installed), http or
	// none.
	Engine string
	// URL is the network service's endpoint (engine http): http or https,
	// without credentials.
	URL string
	// Timeout bounds one recognition (engine http), at most MaxASRTimeout;
	// 0: the engine's default.
	Timeout time.Duration
	// Models are named word lists (a grammar: exactly one of the words)
	// or keyword lists to spot; a SmartCall's AsrModelID or an account's
	// model picks one. The http engine receives the name.
	Models []ASRModel
	// Accounts give an account's calls a model when the SmartCall names
	// none.
	Accounts []ASRAccount
}

// ASRModel is a named set of words or keywords: exactly one of Words and
// Keywords is non-nil.
type ASRModel struct {
	Name     string
	Words    []string
	Keywords []string
}

// ASRAccount gives an account a model.
type ASRAccount struct {
	Account string
	Model   string
}

var (
	// asrPhrase is a word or phrase a recogniser's grammar or keyword list
	// can hold without its syntax changing: letters, ' and -, single
	// spaces.
	asrPhrase = regexp.MustCompile(`^[\p{L}'-]+( [\p{L}'-]+)*$`)
	// asrKeyword is a phrase with an optional PocketSphinx threshold.
	asrKeyword = regexp.MustCompile(`^[\p{L}'-]+( [\p{L}'-]+)*( /[0-9.eE+-]+/)?$`)
)

// Validate reports every problem of the ASR settings, as field errors
// named from the asr mapping (engine, models[0].name); nil is valid.
func (a *ASR) Validate() error {
	if a == nil {
		return nil
	}
	var l fielderr.List
	switch a.Engine {
	case "", ASRPocketSphinx, ASRHTTP, ASRNone:
	default:
		l.Addf("engine", "%s is not one of pocketsphinx, http, none", fielderr.Quote(a.Engine))
	}
	if a.URL != "" {
		u, err := url.Parse(a.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			l.Addf("url", "%s is not an http or https URL without credentials", fielderr.Quote(a.URL))
		}
	}
	if a.Timeout < 0 || a.Timeout > MaxASRTimeout {
		l.Addf("timeout", "must be more than 0s and at most 1m")
	}
	if a.Engine == ASRHTTP && a.URL == "" {
		l.Addf("", "engine http needs url")
	}
	if a.URL != "" && a.Engine != ASRHTTP {
		l.Addf("", "url is for engine http")
	}
	if a.Timeout != 0 && a.Engine != ASRHTTP {
		l.Addf("", "timeout is for engine http")
	}
	models := make(map[string]int, len(a.Models))
	for i, m := range a.Models {
		path := fielderr.Index("models", i)
		switch first, dup := models[m.Name]; {
		case m.Name == "":
			l.Addf(path+".name", "missing: the model has no name")
		case !name.MatchString(m.Name):
			l.Addf(path+".name", "%s must be 1 to 64 letters, digits, '.', '_' or '-'", fielderr.Quote(m.Name))
		case dup:
			l.Duplicate(path+".name", fielderr.Index("models", first)+".name", "duplicate asr model %s", fielderr.Quote(m.Name))
		default:
			models[m.Name] = i
		}
		phrases(&l, path+".words", m.Words, asrPhrase)
		phrases(&l, path+".keywords", m.Keywords, asrKeyword)
		if (m.Words != nil) == (m.Keywords != nil) {
			l.Addf(path, "set words or keywords (one of them)")
		}
	}
	accounts := make(map[string]int, len(a.Accounts))
	for i, ac := range a.Accounts {
		path := fielderr.Index("accounts", i)
		switch first, dup := accounts[ac.Account]; {
		case ac.Account == "":
			l.Addf(path+".account", "missing: no account uid")
		case !dialtone.ValidUID(ac.Account):
			l.Addf(path+".account", "%s is not an account uid (1 to 32 digits)", fielderr.Quote(ac.Account))
		case dup:
			l.Duplicate(path+".account", fielderr.Index("accounts", first)+".account", "duplicate asr account %s", fielderr.Quote(ac.Account))
		default:
			accounts[ac.Account] = i
		}
		// Accounts may name models listed after them.
		if _, ok := models[ac.Model]; ac.Model == "" {
			l.Addf(path+".model", "missing: no model name")
		} else if !ok {
			l.Reference(path+".model", path, "no asr model named %s", fielderr.Quote(ac.Model))
		}
	}
	return l.Err()
}

func phrases(l *fielderr.List, path string, list []string, re *regexp.Regexp) {
	for i, w := range list {
		if len(w) > 200 || !re.MatchString(w) {
			l.Addf(fielderr.Index(path, i), "%s is not a plain word or phrase (letters, ' and -, single spaces)", fielderr.Quote(w))
		}
	}
}

// AccountModels maps an account to the model of its calls whose SmartCall
// names none; nil without any (also on a nil ASR).
func (a *ASR) AccountModels() map[string]string {
	if a == nil || len(a.Accounts) == 0 {
		return nil
	}
	out := make(map[string]string, len(a.Accounts))
	for _, ac := range a.Accounts {
		out[ac.Account] = ac.Model
	}
	return out
}

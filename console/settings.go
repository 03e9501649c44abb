package console

import (
	"net/http"
	"slices"
	"strings"

	"github.com/dialtone-voice/dialtone"
)

// The account's settings page. Answering-machine detection is the
// account's own choice, so its users change it; the resource service
// checks the value (dialtone.CheckMachineDetection), and a refusal names
// the field by its label.

type settingsData struct {
	Settings *dialtone.AccountSettings
	// Modes are the machine_detection settings to choose from, with what
	// each does.
	Modes []modeChoice
	// ForkKinds are the kinds of call a fork may stream, each with whether
	// the account forks it.
	ForkKinds []forkChoice
}

type forkChoice struct {
	Value   dialtone.ForkKind
	Label   string
	Checked bool
}

var forkLabels = map[dialtone.ForkKind]string{
	dialtone.ForkNotification: "Notifications and verification codes 语音通知",
	dialtone.ForkIVR:          "IVR 交互式语音",
	dialtone.ForkClickToDial:  "ClickToDial, both parties as two tracks 回拨",
}

type modeChoice struct {
	Value dialtone.MachineDetection
	Label string
	Help  string
}

var modeChoices = []modeChoice{
	{dialtone.MachineDetectionOff, "Off 关闭", "Calls play at once; answered_by is not reported."},
	{dialtone.MachineDetectionDetect, "Detect 检测", "Calls play at once; the callee's audio is classified and answered_by reported."},
	{dialtone.MachineDetectionHangup, "Hang up on machines 遇答录机挂断", "The prompt waits for the first verdict (about 2.5 s); a machine or a fax is hung up on."},
	{dialtone.MachineDetectionMessage, "Leave a message 留言", "The prompt waits for a machine's beep (or the silence after its greeting) and plays then; a person hears it at once."},
}

func (c *Console) settingsPage(w http.ResponseWriter, r *http.Request, v *view) {
	st, err := c.store.GetAccountSettings(r.Context(), v.Account)
	if err != nil {
		c.internal(w, r, "settings", err)
		return
	}
	st.MachineDetection = st.MachineDetection.OrOff()
	c.messages(w, r, v)
	var kinds []forkChoice
	for _, k := range dialtone.ForkKinds {
		kinds = append(kinds, forkChoice{Value: k, Label: forkLabels[k],
			Checked: st.ForkStreamURL != "" && (len(st.ForkStreamKinds) == 0 || slices.Contains(st.ForkStreamKinds, k))})
	}
	v.Title, v.Data = "Settings 设置", settingsData{Settings: st, Modes: modeChoices, ForkKinds: kinds}
	c.render(w, r, http.StatusOK, "settings.html", v, "")
}

// settingsPut changes the machine_detection setting.
func (c *Console) settingsPut(w http.ResponseWriter, r *http.Request, v *view) {
	m := dialtone.MachineDetection(strings.TrimSpace(r.PostFormValue("machine_detection")))
	if _, _, err := c.res.UpdateSettings(r.Context(), v.Account, dialtone.SettingsUpdate{MachineDetection: &m}); err != nil {
		c.failed(w, r, v, "settings", "update settings", err)
		return
	}
	c.redirect(w, r, "settings", "Answering-machine detection: "+string(m.OrOff())+".", "")
}

// streamsPut changes the media-stream settings: the agent's URL for
// SmartCalls, the fork's and the kinds it streams. The resource service
// checks them (ws:// or wss://, the egress policy for whoever sets them)
// and a refusal names the field by its label.
func (c *Console) streamsPut(w http.ResponseWriter, r *http.Request, v *view) {
	agent := strings.TrimSpace(r.PostFormValue("smartcall_stream_url"))
	fork := strings.TrimSpace(r.PostFormValue("fork_stream_url"))
	kinds := []dialtone.ForkKind{}
	for _, k := range r.PostForm["fork_stream_kinds"] {
		kinds = append(kinds, dialtone.ForkKind(strings.TrimSpace(k)))
	}
	if fork == "" {
		kinds = nil
	}
	u := dialtone.SettingsUpdate{SmartCallStreamURL: &agent, ForkStreamURL: &fork, ForkStreamKinds: &kinds}
	if _, _, err := c.res.UpdateSettings(r.Context(), v.Account, u); err != nil {
		c.failed(w, r, v, "settings", "update settings", err)
		return
	}
	c.redirect(w, r, "settings", "Media streams saved.", "")
}

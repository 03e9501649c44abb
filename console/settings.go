package console

import (
	"net/http"
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
	v.Title, v.Data = "Settings 设置", settingsData{Settings: st, Modes: modeChoices}
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

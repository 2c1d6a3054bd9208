package kickstart

// The commands of pykickstart's newest Fedora syntax (pykickstart 3.74:
// handlers/f45.py, F45Handler.commandMap) that fbs does not apply, each
// with why it does not apply to an image build. They are accepted
// without their options being checked and noted in the build log. fbs
// applies repo, url, bootloader --append/--timeout, part / and the
// installed system's commands (System).
var notApplicable = map[string]string{
	"autopart": "disk layout", "btrfs": "disk layout", "clearpart": "disk layout", "ignoredisk": "disk layout",
	"logvol": "disk layout", "mount": "disk layout", "raid": "disk layout", "reqpart": "disk layout",
	"volgroup": "disk layout", "zerombr": "disk layout", "snapshot": "disk layout",
	"iscsi": "installer's storage", "iscsiname": "installer's storage", "fcoe": "installer's storage",
	"zfcp": "installer's storage", "hmc": "installer's storage", "zipl": "installer's boot loader",
	"cdrom": "installation source (fbs installs from the repo commands)", "harddrive": "installation source (fbs installs from the repo commands)",
	"nfs": "installation source (fbs installs from the repo commands)", "liveimg": "installation source (fbs installs from the repo commands)",
	"ostreesetup": "installation source (fbs installs from the repo commands)", "ostreecontainer": "installation source (fbs installs from the repo commands)",
	"bootc":   "installation source (fbs installs from the repo commands)",
	"cmdline": "installer's interface", "graphical": "installer's interface", "text": "installer's interface",
	"rdp": "installer's interface", "sshpw": "installer's interface", "logging": "installer's interface",
	"mediacheck": "installer's interface", "rescue": "installer's mode", "updates": "installer's updates image",
	"driverdisk": "installer's drivers", "eula": "initial-setup's question", "realm": "joins a domain at install time",
	"halt": "what the installer does at its end", "poweroff": "what the installer does at its end",
	"reboot": "what the installer does at its end", "shutdown": "what the installer does at its end",
}

// removed are the commands F45 keeps only to refuse (RemovedCommand:
// "X has been removed."), with what replaced them where something did.
var removed = map[string]string{
	"auth": "use authselect", "authconfig": "use authselect", "autostep": "", "device": "", "deviceprobe": "",
	"dmraid": "", "install": "", "method": "use url, repo or an installation source command", "module": "",
	"multipath": "", "nvdimm": "", "vnc": "use rdp",
}

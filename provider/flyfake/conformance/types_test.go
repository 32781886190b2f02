package conformance

// The types below follow fly-go's (machine_types.go, volume_types.go,
// flaps): pointer fields without omitempty are sent as null when unset,
// which is exactly what a strict reading of the spec refuses.

type launchMachineInput struct {
	Config                  *machineConfig `json:"config,omitempty"`
	Region                  string         `json:"region,omitempty"`
	Name                    string         `json:"name,omitempty"`
	SkipLaunch              bool           `json:"skip_launch,omitempty"`
	SkipServiceRegistration bool           `json:"skip_service_registration,omitempty"`
	LeaseTTL                int            `json:"lease_ttl,omitempty"`
	MinSecretsVersion       *uint64        `json:"min_secrets_version,omitempty"`
}

type machineConfig struct {
	Env              map[string]string `json:"env,omitempty"`
	Init             machineInit       `json:"init,omitempty"`
	Guest            *machineGuest     `json:"guest,omitempty"`
	Metadata         map[string]string `json:"metadata,omitempty"`
	Mounts           []machineMount    `json:"mounts,omitempty"`
	Services         []machineService  `json:"services,omitempty"`
	Image            string            `json:"image,omitempty"`
	Restart          *machineRestart   `json:"restart,omitempty"`
	AutoDestroy      bool              `json:"auto_destroy,omitempty"`
	StopConfig       *stopConfig       `json:"stop_config,omitempty"`
	ForceInstanceKey *string           `json:"force_instance_key"`
}

type machineInit struct {
	Exec       []string `json:"exec,omitempty"`
	Entrypoint []string `json:"entrypoint,omitempty"`
	Cmd        []string `json:"cmd,omitempty"`
	Tty        bool     `json:"tty,omitempty"`
}

type machineGuest struct {
	CPUKind  string `json:"cpu_kind,omitempty"`
	CPUs     int    `json:"cpus,omitempty"`
	MemoryMB int    `json:"memory_mb,omitempty"`
}

type machineMount struct {
	Volume string `json:"volume,omitempty"`
	Path   string `json:"path,omitempty"`
}

type machineService struct {
	Protocol     string        `json:"protocol,omitempty"`
	InternalPort int           `json:"internal_port,omitempty"`
	Ports        []machinePort `json:"ports,omitempty"`
	// fly-go's autostop: false for off, true for stop.
	Autostop           *bool `json:"autostop,omitempty"`
	Autostart          *bool `json:"autostart,omitempty"`
	MinMachinesRunning *int  `json:"min_machines_running,omitempty"`
}

type machinePort struct {
	Port     *int     `json:"port,omitempty"`
	Handlers []string `json:"handlers,omitempty"`
}

type machineRestart struct {
	Policy     string `json:"policy,omitempty"`
	MaxRetries int    `json:"max_retries,omitempty"`
}

type stopConfig struct {
	Timeout *string `json:"timeout,omitempty"`
	Signal  *string `json:"signal,omitempty"`
}

type machine struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	State      string         `json:"state"`
	Region     string         `json:"region"`
	InstanceID string         `json:"instance_id"`
	Config     *machineConfig `json:"config"`
	Nonce      string         `json:"nonce"`
	Events     []machineEvent `json:"events"`
}

type machineEvent struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Request *struct {
		ExitEvent *struct {
			// fly-go: omitempty, and a missing code reads as 0.
			ExitCode      int  `json:"exit_code,omitempty"`
			RequestedStop bool `json:"requested_stop"`
		} `json:"exit_event"`
	} `json:"request"`
}

type machineStartResponse struct {
	Message       string `json:"message,omitempty"`
	Status        string `json:"status,omitempty"`
	PreviousState string `json:"previous_state,omitempty"`
}

type stopMachineInput struct {
	Signal  string `json:"signal,omitempty"`
	Timeout string `json:"timeout,omitempty"`
}

type waitResponse struct {
	OK      bool   `json:"ok"`
	State   string `json:"state"`
	Version string `json:"version"`
}

type leaseData struct {
	Nonce     string `json:"nonce"`
	ExpiresAt int64  `json:"expires_at"`
	Owner     string `json:"owner"`
	Version   string `json:"version"`
}

// createVolumeRequest is fly-go's CreateVolumeRequest: most optional
// fields go out as null.
type createVolumeRequest struct {
	Name                string        `json:"name"`
	Region              string        `json:"region"`
	SizeGb              *int          `json:"size_gb"`
	Encrypted           *bool         `json:"encrypted"`
	RequireUniqueZone   *bool         `json:"require_unique_zone"`
	SnapshotRetention   *int          `json:"snapshot_retention"`
	AutoBackupEnabled   *bool         `json:"auto_backup_enabled"`
	ComputeRequirements *machineGuest `json:"compute"`
	ComputeImage        string        `json:"compute_image,omitempty"`
	SnapshotID          *string       `json:"snapshot_id"`
	SourceVolumeID      *string       `json:"source_volume_id"`
	FSType              *string       `json:"fstype"`
	UniqueZoneAppWide   *bool         `json:"unique_zone_app_wide"`
}

type volume struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	Region            string `json:"region"`
	SizeGb            int    `json:"size_gb"`
	Encrypted         bool   `json:"encrypted"`
	AutoBackupEnabled bool   `json:"auto_backup_enabled"`
	SnapshotRetention int    `json:"snapshot_retention"`
	AttachedMachineID string `json:"attached_machine_id"`
}

type appSecret struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
}

type appSecretsUpdateResp struct {
	Secrets []appSecret `json:"secrets"`
	Version uint64      `json:"version"`
}

type setSecretKeyResp struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	Version   uint64 `json:"version"`
	PublicKey []byte `json:"public_key"`
}

type assignIPRequest struct {
	Type        string  `json:"type"`
	Region      string  `json:"region,omitempty"`
	ServiceName *string `json:"service_name"`
	OrgSlug     *string `json:"org_slug"`
	Network     *string `json:"network"`
}

type ipAssignment struct {
	IP     string `json:"ip"`
	Region string `json:"region"`
	Shared bool   `json:"shared"`
}

type certificateDetail struct {
	Hostname        string `json:"hostname"`
	Status          string `json:"status"`
	Configured      bool   `json:"configured"`
	DNSRequirements struct {
		A    []string `json:"a"`
		AAAA []string `json:"aaaa"`
	} `json:"dns_requirements"`
}

type certificateCheck struct {
	certificateDetail
	DNSRecords struct {
		ResolvedAddresses []string `json:"resolved_addresses"`
	} `json:"dns_records"`
}

type createPostgresRequest struct {
	Name           string `json:"name"`
	OrgSlug        string `json:"org_slug"`
	Region         string `json:"region"`
	Plan           string `json:"plan"`
	DiskSizeGB     *int   `json:"disk_size_gb"`
	PGMajorVersion string `json:"pg_major_version,omitempty"`
	PostGISEnabled *bool  `json:"postgis_enabled"`
}

type postgresCluster struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	Region    string `json:"region"`
	Plan      string `json:"plan"`
	Endpoints struct {
		Primary struct {
			Pooler struct {
				Host string `json:"host"`
			} `json:"pooler"`
		} `json:"primary"`
	} `json:"endpoints"`
}

type postgresCredentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

package s3

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
)

// Config says where the bucket is and how to reach it.
type Config struct {
	Endpoint  string // host:port, no scheme
	Bucket    string
	AccessKey string
	SecretKey string
	Region    string // empty: the service's default
	TLS       bool   // https
	CAFile    string // PEM bundle trusted beside the system's, for a private CA
}

// Environment variables, read by FromEnv and used as flag defaults.
const (
	EnvEndpoint  = "SANDSCAN_S3_ENDPOINT"
	EnvBucket    = "SANDSCAN_S3_BUCKET"
	EnvAccessKey = "SANDSCAN_S3_ACCESS_KEY"
	EnvSecretKey = "SANDSCAN_S3_SECRET_KEY"
	EnvRegion    = "SANDSCAN_S3_REGION"
	EnvTLS       = "SANDSCAN_S3_TLS"
	EnvCAFile    = "SANDSCAN_S3_CA_FILE"
)

// FromEnv reads the SANDSCAN_S3_* variables through getenv (os.Getenv
// when nil). TLS is on unless SANDSCAN_S3_TLS says otherwise.
func FromEnv(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := Config{
		Endpoint:  getenv(EnvEndpoint),
		Bucket:    getenv(EnvBucket),
		AccessKey: getenv(EnvAccessKey),
		SecretKey: getenv(EnvSecretKey),
		Region:    getenv(EnvRegion),
		TLS:       true,
		CAFile:    getenv(EnvCAFile),
	}
	if v := getenv(EnvTLS); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("s3: %s=%q: %w", EnvTLS, v, err)
		}
		c.TLS = b
	}
	return c, nil
}

// RegisterFlags adds -s3-* flags to fs that set c, with c's current
// values (from FromEnv, say) as defaults. The secret has a flag too, but
// the environment is the better place for it: flags show in ps.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Endpoint, "s3-endpoint", c.Endpoint, "S3 endpoint host:port (env "+EnvEndpoint+")")
	fs.StringVar(&c.Bucket, "s3-bucket", c.Bucket, "S3 bucket, created if missing (env "+EnvBucket+")")
	fs.StringVar(&c.AccessKey, "s3-access-key", c.AccessKey, "S3 access key (env "+EnvAccessKey+")")
	fs.StringVar(&c.SecretKey, "s3-secret-key", c.SecretKey, "S3 secret key; prefer env "+EnvSecretKey)
	fs.StringVar(&c.Region, "s3-region", c.Region, "S3 region (env "+EnvRegion+")")
	fs.BoolVar(&c.TLS, "s3-tls", c.TLS, "use https (env "+EnvTLS+")")
	fs.StringVar(&c.CAFile, "s3-ca-file", c.CAFile, "extra CA bundle for https (env "+EnvCAFile+")")
}

// Validate reports a missing setting.
func (c Config) Validate() error {
	switch {
	case c.Endpoint == "":
		return fmt.Errorf("s3: no endpoint (%s)", EnvEndpoint)
	case c.Bucket == "":
		return fmt.Errorf("s3: no bucket (%s)", EnvBucket)
	case c.AccessKey == "" || c.SecretKey == "":
		return fmt.Errorf("s3: no credentials (%s, %s)", EnvAccessKey, EnvSecretKey)
	}
	return nil
}

// LogValue keeps the secret key out of logs.
func (c Config) LogValue() slog.Value {
	secret := ""
	if c.SecretKey != "" {
		secret = "REDACTED"
	}
	return slog.GroupValue(
		slog.String("endpoint", c.Endpoint),
		slog.String("bucket", c.Bucket),
		slog.String("access_key", c.AccessKey),
		slog.String("secret_key", secret),
		slog.String("region", c.Region),
		slog.Bool("tls", c.TLS),
		slog.String("ca_file", c.CAFile),
	)
}

// String keeps the secret out of %v and %+v too.
func (c Config) String() string { return c.LogValue().String() }

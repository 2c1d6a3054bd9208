package publish

import (
	"cmp"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 publishes to a bucket of any S3-compatible store. The endpoint,
// region and credentials come from S3Config, and what it leaves empty from
// the standard AWS environment variables (AWS_ENDPOINT_URL_S3 or
// AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY),
// or ~/.aws/credentials.
type S3 struct {
	Bucket, Prefix string
	client         *minio.Client
	endpoint       string
}

// S3Config are S3 settings a server's, worker's or build's configuration
// gives (fbs's --s3-* flags); an empty one is read from the environment.
type S3Config struct {
	Endpoint, Region, AccessKey, SecretKey string
}

// setting is the configured value, else the first environment variable set.
func setting(configured string, env ...string) string {
	for _, k := range env {
		if configured != "" {
			break
		}
		configured = os.Getenv(k)
	}
	return configured
}

func newS3(u *url.URL, cfg S3Config) (*S3, error) {
	endpoint := cmp.Or(setting(cfg.Endpoint, "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"), "https://s3.amazonaws.com")
	e, err := url.Parse(endpoint)
	if err != nil || e.Host == "" {
		return nil, fmt.Errorf("S3 endpoint %q: want a URL such as https://s3.example.org", endpoint)
	}
	region := setting(cfg.Region, "AWS_REGION", "AWS_DEFAULT_REGION")
	creds := credentials.NewChainCredentials([]credentials.Provider{
		&credentials.Static{Value: credentials.Value{AccessKeyID: setting(cfg.AccessKey, "AWS_ACCESS_KEY_ID"), SecretAccessKey: setting(cfg.SecretKey, "AWS_SECRET_ACCESS_KEY"),
			SessionToken: os.Getenv("AWS_SESSION_TOKEN"), SignerType: credentials.SignatureV4}},
		&credentials.FileAWSCredentials{},
		&credentials.IAM{},
	})
	c, err := minio.New(e.Host, &minio.Options{Creds: creds, Secure: e.Scheme == "https", Region: region, BucketLookup: minio.BucketLookupPath})
	if err != nil {
		return nil, err
	}
	return &S3{Bucket: u.Host, Prefix: strings.Trim(path.Clean("/"+u.Path), "/"), client: c, endpoint: endpoint}, nil
}

func (s *S3) String() string { return "s3://" + s.Bucket + "/" + s.Prefix }

func (s *S3) key(name string) string {
	if s.Prefix == "" {
		return name
	}
	return s.Prefix + "/" + name
}

// permanent marks the answers retrying cannot change.
func permanent(err error) error {
	switch minio.ToErrorResponse(err).Code {
	case "NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch":
		return fmt.Errorf("%w: %w", err, ErrPermanent)
	}
	return err
}

func (s *S3) Exists(ctx context.Context, name string) (bool, error) {
	_, err := s.client.StatObject(ctx, s.Bucket, s.key(name), minio.StatObjectOptions{})
	if minio.ToErrorResponse(err).Code == "NoSuchKey" {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", s, permanent(err))
	}
	return true, nil
}

func (s *S3) Put(ctx context.Context, local, name string, sent func(int64)) (string, error) {
	src, total, err := openSized(local)
	if err != nil {
		return "", err
	}
	defer src.Close()
	if taken, err := s.Exists(ctx, name); err != nil || taken {
		return "", errors.Join(err, fmt.Errorf("%s/%s: %w", s, name, ErrExists))
	}
	part := s.key("." + name + ".part")
	h := md5.New()
	info, err := s.client.PutObject(ctx, s.Bucket, part, io.TeeReader(&counter{r: src, sent: sent}, h), total,
		minio.PutObjectOptions{ContentType: "application/octet-stream", DisableMultipart: total < 1<<30})
	if err != nil {
		return "", fmt.Errorf("%s: upload %s: %w", s, part, permanent(err))
	}
	// A single-part upload's ETag is the MD5 of what the store holds.
	if sum := hex.EncodeToString(h.Sum(nil)); info.Size != total || !strings.Contains(info.ETag, "-") && !strings.EqualFold(strings.Trim(info.ETag, `"`), sum) {
		s.client.RemoveObject(ctx, s.Bucket, part, minio.RemoveObjectOptions{})
		return "", fmt.Errorf("%s: %s holds %d bytes (ETag %s), not the %d bytes (MD5 %s) sent", s, part, info.Size, info.ETag, total, sum)
	}
	if taken, err := s.Exists(ctx, name); err != nil || taken {
		return "", errors.Join(err, fmt.Errorf("%s/%s: %w", s, name, ErrExists))
	}
	_, err = s.client.CopyObject(ctx, minio.CopyDestOptions{Bucket: s.Bucket, Object: s.key(name)}, minio.CopySrcOptions{Bucket: s.Bucket, Object: part})
	if err != nil {
		return "", fmt.Errorf("%s: name %s: %w", s, name, permanent(err))
	}
	s.client.RemoveObject(ctx, s.Bucket, part, minio.RemoveObjectOptions{})
	return s.String() + "/" + name, nil
}

func (s *S3) Remove(ctx context.Context, name string) error {
	return s.client.RemoveObject(ctx, s.Bucket, s.key(name), minio.RemoveObjectOptions{})
}

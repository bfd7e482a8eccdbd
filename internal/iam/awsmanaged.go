package iam

import (
	"crypto/sha256"
	"embed"
	"encoding/base32"
	"sort"
	"time"
)

// The AWS managed policies every account has, read-only. Their documents are stateward's
// copies of AWS's, trimmed to the services stateward speaks (see awspolicies/); their ids are
// derived from their names, and their version is v1.
//
//go:embed awspolicies/*.json
var awsPolicyFiles embed.FS

type awsPolicy struct {
	name, description string
}

var awsPolicyList = []awsPolicy{
	{"AdministratorAccess", "Provides full access to AWS services and resources."},
	{"PowerUserAccess", "Provides full access to AWS services and resources, but does not allow management of Users and groups."},
	{"ReadOnlyAccess", "Provides read-only access to AWS services and resources."},
	{"IAMFullAccess", "Provides full access to IAM via the AWS Management Console."},
	{"AmazonS3FullAccess", "Provides full access to all buckets via the AWS Management Console."},
	{"AmazonS3ReadOnlyAccess", "Provides read only access to all buckets via the AWS Management Console."},
	{"AmazonDynamoDBFullAccess", "Provides full access to Amazon DynamoDB via the AWS Management Console."},
	{"AWSKeyManagementServicePowerUser", "Provides access to AWS Key Management Service (KMS)."},
	{"AmazonSSMFullAccess", "Provides full access to Amazon SSM."},
	{"AmazonSSMReadOnlyAccess", "Provides read only access to Amazon SSM."},
}

// awsPolicyDate is the creation and update date the AWS managed policies are shown with.
var awsPolicyDate = time.Date(2015, 2, 6, 18, 39, 46, 0, time.UTC)

// awsPolicies are the AWS managed policies by name, as policy records at path "/".
var awsPolicies = loadAWSPolicies()

// awsPolicyNames are their names, sorted.
var awsPolicyNames []string

func loadAWSPolicies() map[string]*policyRecord {
	m := make(map[string]*policyRecord, len(awsPolicyList))
	for _, p := range awsPolicyList {
		doc, err := awsPolicyFiles.ReadFile("awspolicies/" + p.name + ".json")
		if err != nil {
			panic("iam: AWS managed policy " + p.name + ": " + err.Error()) // embedded at build time
		}
		sum := sha256.Sum256([]byte("aws-managed-policy/" + p.name))
		id := "ANPA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
		m[p.name] = &policyRecord{Name: p.name, Path: "/", ID: id, Description: p.description,
			Created: awsPolicyDate, Updated: awsPolicyDate, Default: "v1", NextVersion: 2,
			Versions: []versionRecord{{ID: "v1", Document: string(doc), Created: awsPolicyDate}}}
		awsPolicyNames = append(awsPolicyNames, p.name)
	}
	sort.Strings(awsPolicyNames)
	return m
}

// awsPolicyARN is the ARN of the AWS managed policy name.
func awsPolicyARN(name string) string { return "arn:aws:iam::aws:policy/" + name }

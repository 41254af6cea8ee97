module "vpc" {
  source = "git::git@github.com:acme/terraform-aws-vpc.git//modules/vpc?ref=v0.5.0"

  name = "stage"
}

locals {
  base_source_url = "git::git@github.com:gruntwork-io/terraform-aws-messaging.git//modules/sqs"
}

terraform {
  source = "${local.base_source_url}?ref=v0.12.1"
}

inputs = {
  name = "dev-events"
}

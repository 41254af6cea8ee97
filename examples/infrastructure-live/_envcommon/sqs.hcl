# Shared by every environment: patcher leaves this file alone during an environment's update.
locals {
  base_source_url = "git::git@github.com:gruntwork-io/terraform-aws-messaging.git//modules/sqs"
}

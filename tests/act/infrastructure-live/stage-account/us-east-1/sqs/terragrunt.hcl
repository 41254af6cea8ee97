terraform {
  source = "git::https://github.com/acme/terraform-aws-sqs.git//modules/sqs?ref=v1.0.0"
}

inputs = {
  name = "stage-events"
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 5.0"

  name = "stage"
  cidr = "10.0.0.0/16"
}

module "labels" {
  source = "./modules/labels" # local: skipped
}

# The data model (SchoolYear, TownshipYear, help relations) and the seven targets arrive with
# the upload and targets issues; inspectors' assignments will feed townships.jurisdiction
# through townships.jurisdiction.register_provider from this app's AppConfig.ready().

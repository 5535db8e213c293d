from pxm_jobs.cli import app

app(prog_name="pxm-jobs")

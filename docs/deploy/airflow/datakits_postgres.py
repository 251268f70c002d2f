"""Run the Datakits postgres extractor from Airflow: on Kubernetes (KubernetesPodOperator) or on a
Docker host (DockerOperator). Providers: apache-airflow-providers-cncf-kubernetes >= 8,
apache-airflow-providers-docker >= 3.8; Airflow 2.9+ or 3.

Exit codes (docs/errors.md) decide what a failure means:
  2 configuration error, 4 data error  -> fail at once, no retry (AirflowFailException)
  1 internal, 3 connection/auth,
  130/143 interrupted (state stored)   -> retried by Airflow (`retries`), resuming from stored state
Each task runs one stream (or a group); max_active_runs=1 keeps two runs of a stream apart, which would
otherwise race on its state. If Airflow kills a task (timeout, mark failed), the pod/container gets
SIGTERM and the kit stores its last batch and checkpoint before exiting 143.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from airflow import DAG
from airflow.exceptions import AirflowException, AirflowFailException, AirflowSkipException
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.cncf.kubernetes.secret import Secret
from airflow.providers.docker.operators.docker import DockerOperator
from docker.types import Mount
from kubernetes.client import models as k8s

IMAGE = "registry.example.com/etl/postgres-extractor:0.1.0"  # a version tag, never latest

# exit code -> why retrying cannot help
NO_RETRY = {2: "configuration error: fix the settings", 4: "data error: a record cannot be represented exactly"}


def _pod_exit_code(remote_pod: k8s.V1Pod | None, container: str) -> int | None:
    statuses = (remote_pod.status.container_statuses if remote_pod and remote_pod.status else None) or []
    for s in statuses:
        if s.name == container and s.state and s.state.terminated:
            return s.state.terminated.exit_code
    return None


class DatakitPodOperator(KubernetesPodOperator):
    """KubernetesPodOperator that fails without retrying when the kit exits 2 or 4."""

    def cleanup(self, pod, remote_pod, *args, **kwargs):  # type: ignore[override]
        try:
            return super().cleanup(pod, remote_pod, *args, **kwargs)
        except AirflowSkipException:
            raise
        except AirflowException as err:
            code = _pod_exit_code(remote_pod, self.base_container_name)
            if code in NO_RETRY:
                raise AirflowFailException(f"{self.task_id}: extractor exited {code} ({NO_RETRY[code]}); not retried") from err
            raise


class DatakitDockerOperator(DockerOperator):
    """DockerOperator that fails without retrying when the kit exits 2 or 4."""

    def execute(self, context):
        try:
            return super().execute(context)
        except AirflowSkipException:
            raise
        except AirflowException as err:  # DockerContainerFailedException: "Docker container failed: {'StatusCode': 2}"
            m = re.search(r"'StatusCode': (\d+)", str(err))
            code = int(m.group(1)) if m else None
            if code in NO_RETRY:
                raise AirflowFailException(f"{self.task_id}: extractor exited {code} ({NO_RETRY[code]}); not retried") from err
            raise


default_args = {
    "owner": "data-platform",
    "retries": 3,  # for exits 1, 3, 130, 143; each retry resumes from the stored state
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": timedelta(hours=4),
}

with DAG(
    dag_id="datakits_postgres_shop",
    schedule="15 2 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,  # never two runs of the same streams at once
    default_args=default_args,
    tags=["datakits", "bronze"],
) as dag:
    # ---- on Kubernetes ------------------------------------------------------------------------------
    # The Secret datakit-postgres-shop (keys source-password, warehouse-url) is mounted as files and
    # read through *_FILE; see ../kubernetes/cronjob.yaml.
    secrets = [Secret(deploy_type="volume", deploy_target="/var/run/secrets/datakit", secret="datakit-postgres-shop")]
    common_env = {
        "SOURCE_HOST": "shop-db.prod.svc",
        "SOURCE_DATABASE": "shop",
        "SOURCE_USER": "etl_reader",
        "SOURCE_SSLMODE": "verify-full",
        "SOURCE_PASSWORD_FILE": "/var/run/secrets/datakit/source-password",
        "WAREHOUSE_DATABASE_URL_FILE": "/var/run/secrets/datakit/warehouse-url",
        "CURSOR_FIELDS": "orders=updated_at,order_items=updated_at",
        "LOG_LEVEL": "info",
    }

    def extract_on_k8s(task_id: str, *streams: str, memory: str = "512Mi") -> DatakitPodOperator:
        return DatakitPodOperator(
            task_id=task_id,
            name=f"postgres-extractor-{task_id}".replace("_", "-"),
            namespace="data",
            image=IMAGE,
            arguments=["run", *streams],  # no `cmds`: keep the image's entrypoint (it sizes the heap)
            env_vars=common_env,
            secrets=secrets,
            container_resources=k8s.V1ResourceRequirements(
                requests={"cpu": "250m", "memory": memory},
                limits={"memory": memory},
            ),
            security_context=k8s.V1PodSecurityContext(
                run_as_non_root=True, run_as_user=1000, run_as_group=1000, fs_group=1000,
                seccomp_profile=k8s.V1SeccompProfile(type="RuntimeDefault"),
            ),
            container_security_context=k8s.V1SecurityContext(
                read_only_root_filesystem=True,
                allow_privilege_escalation=False,
                capabilities=k8s.V1Capabilities(drop=["ALL"]),
            ),
            volumes=[k8s.V1Volume(name="data", empty_dir=k8s.V1EmptyDirVolumeSource(size_limit="1Gi"))],
            volume_mounts=[k8s.V1VolumeMount(name="data", mount_path="/data")],
            termination_grace_period=30,  # the kit needs < 10 s after SIGTERM
            get_logs=True,  # stderr logs (JSON) and the run report (stdout) in the task log
            on_finish_action="delete_pod",
            startup_timeout_seconds=300,
        )

    orders = extract_on_k8s("orders", "orders", "order_items")
    customers = extract_on_k8s("customers", "customers")
    events = extract_on_k8s("events", "events", memory="1Gi")

    # one big table split in 4 (disjoint key ranges, own state per partition): fan out, same N always
    events_partitioned = [
        DatakitPodOperator(
            task_id=f"events_part_{i}",
            name=f"postgres-extractor-events-{i}",
            namespace="data",
            image=IMAGE,
            arguments=["run", "events_archive", "--partition", f"{i}/4"],
            env_vars=common_env,
            secrets=secrets,
            container_resources=k8s.V1ResourceRequirements(requests={"cpu": "500m", "memory": "512Mi"}, limits={"memory": "512Mi"}),
            termination_grace_period=30,
            get_logs=True,
            on_finish_action="delete_pod",
        )
        for i in range(4)
    ]

    # ---- on a Docker host ---------------------------------------------------------------------------
    # Parquet into /srv/bronze on the host (chown 1000:1000 /srv/bronze); the source password is a
    # file on the host (chmod 0440, group 1000), mounted read-only and read through SOURCE_PASSWORD_FILE.
    orders_docker = DatakitDockerOperator(
        task_id="orders_docker",
        image=IMAGE,
        command=["run", "orders", "order_items"],
        environment={
            "SOURCE_HOST": "shop-db.internal",
            "SOURCE_DATABASE": "shop",
            "SOURCE_USER": "etl_reader",
            "SOURCE_PASSWORD_FILE": "/run/secrets/source-password",
            "CURSOR_FIELDS": "orders=updated_at,order_items=updated_at",
            # no BRONZE_URL: the default /data/bronze is the mounted /srv/bronze/bronze
        },
        mounts=[
            Mount(source="/srv/bronze", target="/data", type="bind"),
            Mount(source="/etc/datakits/shop/source-password", target="/run/secrets/source-password", type="bind", read_only=True),
        ],
        mem_limit="512m",  # the entrypoint sizes Node's heap from it
        network_mode="bridge",
        mount_tmp_dir=False,
        auto_remove="success",  # keep failed containers for `docker logs`
        docker_url="unix://var/run/docker.sock",
    )

    orders >> customers

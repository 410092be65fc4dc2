// Readiness probe for scripts/stack: a broker is ready when it serves real requests, not when
// its port is open. One run does three round trips with the Kafka admin client:
//   1. metadata (describeCluster): the node answers and names a controller;
//   2. create the probe topic (already there is fine);
//   3. describe it: its partition has a leader, so produce and fetch can be served.
// Prints one line, "ok ..." or the failing step and its error, and exits 0 or 1.
//
// Usage: java -cp <kafka libs>:<this class's dir> StackProbe <bootstrap> <topic> <timeout ms>

import java.util.List;
import java.util.Map;
import java.io.FileInputStream;
import java.io.IOException;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;

public final class StackProbe {
    public static void main(String[] args) {
        if (args.length != 3) {
            System.out.println("usage: StackProbe <bootstrap> <topic> <timeout ms>");
            System.exit(2);
        }
        String bootstrap = args[0];
        String topic = args[1];
        int timeoutMs = Integer.parseInt(args[2]);
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs);
        loadClientProperties(props);
        props.put(AdminClientConfig.RETRIES_CONFIG, 0);
        String step = "metadata";
        try (Admin admin = Admin.create(props)) {
            DescribeClusterResult cluster = admin.describeCluster();
            int nodes = cluster.nodes().get(timeoutMs, TimeUnit.MILLISECONDS).size();
            var controller = cluster.controller().get(timeoutMs, TimeUnit.MILLISECONDS);
            String clusterId = cluster.clusterId().get(timeoutMs, TimeUnit.MILLISECONDS);
            if (nodes == 0 || controller == null || controller.isEmpty()) {
                fail(step, "no broker or no controller in the metadata");
            }

            step = "create topic " + topic;
            try {
                admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1)))
                        .all().get(timeoutMs, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }

            step = "describe topic " + topic;
            Map<String, TopicDescription> described = admin.describeTopics(List.of(topic))
                    .allTopicNames().get(timeoutMs, TimeUnit.MILLISECONDS);
            var partition = described.get(topic).partitions().get(0);
            if (partition.leader() == null || partition.leader().isEmpty()) {
                fail(step, "partition 0 has no leader yet");
            }
            System.out.println("ok cluster " + clusterId + ", " + nodes + " node(s), controller "
                    + controller.id() + ", probe topic " + topic + " led by node "
                    + partition.leader().id());
        } catch (ExecutionException e) {
            fail(step, String.valueOf(e.getCause()));
        } catch (Exception e) {
            fail(step, String.valueOf(e));
        }
    }

    private static void fail(String step, String why) {
        System.out.println(step + " failed: " + why.replace('\n', ' '));
        System.exit(1);
    }

    // The client's security settings (SASL_SSL, the operator's SCRAM credentials, the CA), from
    // the properties file that KAFKA_CLIENT_PROPERTIES names; scripts/stack writes it (0600).
    static void loadClientProperties(Properties props) {
        String path = System.getenv("KAFKA_CLIENT_PROPERTIES");
        if (path == null || path.isEmpty()) {
            return;
        }
        try (FileInputStream in = new FileInputStream(path)) {
            props.load(in);
        } catch (IOException e) {
            throw new IllegalStateException("reading KAFKA_CLIENT_PROPERTIES=" + path + ": " + e, e);
        }
    }
}

// Topic housekeeping for scripts/stack: deletes the topics (and the ACL rules on resources)
// whose names match a regular expression, so that the namespaces earlier test runs left behind (t<12 hex>.<topic>) do not
// pile up on a long-lived local broker. Each partition holds files open, and a broker that has
// collected tens of thousands of partitions runs out of file descriptors.
// Prints how many topics it deleted, or what failed, and exits 0 or 1.
//
// Usage: java -cp <kafka libs>:<this class's dir> StackTopics <bootstrap> <regex> <timeout ms>

import java.util.ArrayList;
import java.util.List;
import java.io.FileInputStream;
import java.io.IOException;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;

public final class StackTopics {
    public static void main(String[] args) {
        if (args.length != 3) {
            System.out.println("usage: StackTopics <bootstrap> <regex> <timeout ms>");
            System.exit(2);
        }
        Pattern pattern = Pattern.compile(args[1]);
        int timeoutMs = Integer.parseInt(args[2]);
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs);
        loadClientProperties(props);
        try (Admin admin = Admin.create(props)) {
            List<String> doomed = new ArrayList<>();
            for (String name : admin.listTopics().names().get(timeoutMs, TimeUnit.MILLISECONDS)) {
                if (pattern.matcher(name).find()) {
                    doomed.add(name);
                }
            }
            for (int i = 0; i < doomed.size(); i += 500) {
                List<String> chunk = doomed.subList(i, Math.min(doomed.size(), i + 500));
                admin.deleteTopics(chunk).all().get(timeoutMs, TimeUnit.MILLISECONDS);
            }
            // The access rules of those namespaces go with them (literal rules only: the
            // provisioner makes no other kind).
            List<AclBindingFilter> rules = new ArrayList<>();
            for (AclBinding b : admin.describeAcls(AclBindingFilter.ANY).values().get(timeoutMs, TimeUnit.MILLISECONDS)) {
                if (pattern.matcher(b.pattern().name()).find()) {
                    rules.add(b.toFilter());
                }
            }
            for (int i = 0; i < rules.size(); i += 500) {
                admin.deleteAcls(rules.subList(i, Math.min(rules.size(), i + 500))).all().get(timeoutMs, TimeUnit.MILLISECONDS);
            }
            System.out.println("deleted " + doomed.size() + " topic(s) and " + rules.size() + " ACL rule(s) matching " + args[1]);
        } catch (Exception e) {
            System.out.println("deleting topics failed: " + String.valueOf(e).replace('\n', ' '));
            System.exit(1);
        }
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

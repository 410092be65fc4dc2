// Topic housekeeping for scripts/stack: deletes the topics whose names match a regular
// expression, so that the namespaces earlier test runs left behind (t<12 hex>.<topic>) do not
// pile up on a long-lived local broker. Each partition holds files open, and a broker that has
// collected tens of thousands of partitions runs out of file descriptors.
// Prints how many topics it deleted, or what failed, and exits 0 or 1.
//
// Usage: java -cp <kafka libs>:<this class's dir> StackTopics <bootstrap> <regex> <timeout ms>

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

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
            System.out.println("deleted " + doomed.size() + " topic(s) matching " + args[1]);
        } catch (Exception e) {
            System.out.println("deleting topics failed: " + String.valueOf(e).replace('\n', ' '));
            System.exit(1);
        }
    }
}

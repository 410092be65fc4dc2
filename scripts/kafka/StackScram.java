// SCRAM credentials for scripts/stack: sets each principal's SCRAM-SHA-512 password on the broker
// (an upsert), so that the broker's credentials follow .stack/secrets after a password is
// rotated, without formatting the log again. Reads "<principal> <password>" lines from stdin
// (never the command line, where ps would show them), connects with the operator's client
// properties (KAFKA_CLIENT_PROPERTIES), prints one line and exits 0 or 1.
//
// Usage: java -cp <kafka libs>:<this class's dir> StackScram <bootstrap> <timeout ms> < credentials

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;

public final class StackScram {
    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.out.println("usage: StackScram <bootstrap> <timeout ms> < credentials");
            System.exit(2);
        }
        int timeoutMs = Integer.parseInt(args[1]);
        List<UserScramCredentialAlteration> upserts = new ArrayList<>();
        List<String> names = new ArrayList<>();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            String[] parts = line.trim().split(" ", 2);
            if (parts.length != 2) {
                continue;
            }
            names.add(parts[0]);
            upserts.add(new UserScramCredentialUpsertion(parts[0],
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), parts[1]));
        }
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs);
        loadClientProperties(props);
        try (Admin admin = Admin.create(props)) {
            admin.alterUserScramCredentials(upserts).all().get(timeoutMs, TimeUnit.MILLISECONDS);
            System.out.println("set the SCRAM-SHA-512 credentials of " + String.join(", ", names));
        } catch (Exception e) {
            System.out.println("setting SCRAM credentials failed: " + String.valueOf(e).replace('\n', ' '));
            System.exit(1);
        }
    }

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

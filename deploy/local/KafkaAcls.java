// Applies ALLOW ACLs read from stdin, one a line: "PRINCIPAL OPERATION RESOURCE_TYPE PATTERN_TYPE NAME"
// (what `router acls lines` prints). Run by `deploy/local/kafka acls` as a single-file Java program
// on the broker's own jars: the Kafka 4 protocol has dropped the CreateAcls versions that the
// Python clients speak.
//
//   java -cp 'libs/*' KafkaAcls.java CLIENT_PROPERTIES < rules
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class KafkaAcls {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    try (FileInputStream in = new FileInputStream(args[0])) { props.load(in); }
    List<AclBinding> bindings = new ArrayList<>();
    BufferedReader reader = new BufferedReader(new InputStreamReader(System.in));
    for (String line; (line = reader.readLine()) != null; ) {
      line = line.strip();
      if (line.isEmpty() || line.startsWith("#")) continue;
      String[] f = line.split("\\s+");
      if (f.length != 5) throw new IllegalArgumentException("expected 5 fields: " + line);
      bindings.add(new AclBinding(
          new ResourcePattern(ResourceType.fromString(f[2]), f[4], PatternType.fromString(f[3])),
          new AccessControlEntry(f[0], "*", AclOperation.fromString(f[1]), AclPermissionType.ALLOW)));
    }
    try (Admin admin = Admin.create(props)) {
      admin.createAcls(bindings).all().get();  // idempotent: an existing binding is not an error
    }
    System.out.println("applied " + bindings.size() + " ACL rules");
  }
}

#:project ../../src/KcpKestrel.Transport.Kcp/KcpKestrel.Transport.Kcp.csproj
#:property PublishAot=false

// Warm dial times for the attack harness (run.sh, case dial): one process dials ON (a serve with address
// validation) and OFF (one without) alternately, COUNT times each after one discarded warm-up dial each, every
// dial a fresh KCP session on a fresh local port, closed before the next. Prints one JSON line per target.
// Usage: dotnet run dialtime.cs -- ON_HOST:PORT OFF_HOST:PORT CRYPT KEY COUNT
using System.Diagnostics;
using System.Globalization;
using System.Net;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Client;

var count = int.Parse(args[4], CultureInfo.InvariantCulture);
var targets = new[] { (Validation: true, EndPoint: IPEndPoint.Parse(args[0])), (Validation: false, EndPoint: IPEndPoint.Parse(args[1])) };
var factories = targets.Select(t => new KcpConnectionFactory(new KcpClientOptions
{
    Kcp = new KcpOptions { Crypt = args[2], Key = args[3], AddressValidation = t.Validation },
})).ToArray();
var times = targets.Select(_ => new List<double>()).ToArray();
for (var i = 0; i <= count; i++)
{
    for (var t = 0; t < targets.Length; t++)
    {
        var start = Stopwatch.GetTimestamp();
        var connection = await factories[t].ConnectAsync(new KcpEndPoint(targets[t].EndPoint));
        var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        await connection.Transport.Output.CompleteAsync();
        await connection.DisposeAsync();
        if (i > 0)
        {
            times[t].Add(ms);
        }
    }
}

for (var t = 0; t < targets.Length; t++)
{
    await factories[t].DisposeAsync();
    var ms = string.Join(",", times[t].Select(v => Math.Round(v, 3).ToString(CultureInfo.InvariantCulture)));
    Console.WriteLine($"{{\"validation\":{(targets[t].Validation ? "true" : "false")},\"connect_ms\":[{ms}]}}");
}

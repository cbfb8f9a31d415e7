using System.CommandLine;
using KcpKestrel.Cli.Multicast;
using KcpKestrel.Multicast;
using KcpKestrel.Multicast.Io;

namespace KcpKestrel.Cli.Commands;

/// <summary><c>kcpkestrel multicast pub|sub|bench</c>: reliable multicast with a checkable payload.</summary>
internal static class MulticastCommand
{
    public static Command Create(CliIo io)
    {
        var command = new Command("multicast", "Reliable NAK-based multicast: publish or subscribe messages whose content follows from their index.");
        command.Subcommands.Add(CreatePub(io));
        command.Subcommands.Add(CreateSub(io));
        command.Subcommands.Add(MulticastBenchCommand.Create(io));
        return command;
    }

    private static Command CreatePub(CliIo io)
    {
        var shared = new SharedFlags(defaultNode: 1);
        var tuning = new MulticastTuningFlags();
        var size = Flags.Int("--size", "Bytes per message (default 70)", SequencePayload.MinSize, 64 << 20);
        var pps = Flags.Int("--pps", "Packet rate limit, new and resent together (default 0: none)", 0, 10_000_000);
        var flush = new Option<bool>("--flush") { Description = "Send every message at once instead of batching for up to 1 ms" };
        var datagram = Flags.Int("--datagram", "Bytes per datagram (default 1400)", 512, MulticastOptions.MaxDatagramSize);
        var history = Flags.Int("--history", $"Packets kept for resends (default {new MulticastOptions().HistoryPackets})", 16, 1 << 20);
        var linger = Flags.Double("--linger", "Seconds to keep answering NAKs after the last message (default 2)", 0, 3600, "0 to 3600 s");
        var command = new Command("pub", "Publish --count messages; the last line is JSON: messages, bytes, seconds, msg_per_s, retransmits, naks_served (NAKs received), cpu_s (user + system).");
        shared.AddTo(command);
        tuning.AddTo(command);
        foreach (var option in new Option[] { size, pps, flush, datagram, history, linger })
        {
            command.Options.Add(option);
        }

        command.SetAction((result, cancellationToken) =>
        {
            var options = shared.Options(result);
            tuning.Apply(result, options);
            options.PacketsPerSecond = result.GetValue(pps) ?? 0;
            options.DatagramSize = result.GetValue(datagram) ?? options.DatagramSize;
            options.HistoryPackets = result.GetValue(history) ?? options.HistoryPackets;
            var messageSize = result.GetValue(size) ?? 70;
            options.MaxMessageSize = Math.Max(options.MaxMessageSize, messageSize);
            SharedFlags.Check(options); // --history × --datagram is bounded together
            return MulticastRuns.PublishAsync(
                io, options, shared.Topic(result), shared.Count(result), messageSize, result.GetValue(flush),
                TimeSpan.FromSeconds(result.GetValue(linger) ?? 2), cancellationToken);
        });
        return command;
    }

    internal static Command CreateSub(CliIo io)
    {
        // Subscribers on one host need distinct node ids: a NAK's answer names its node.
        var shared = new SharedFlags(defaultNode: (ushort)(2 + (Environment.ProcessId % 65000)));
        var tuning = new MulticastTuningFlags();
        var drop = Flags.Double("--drop", "Share of received data packets dropped on purpose (diagnostic loss)", 0, 0.5, "a probability from 0 to 0.5");
        var seed = Flags.Int("--seed", "Seed of --drop (default 1)", int.MinValue, int.MaxValue, "a whole number");
        var timeout = Flags.Double("--timeout", "Seconds to wait for the last message (default 60)", 0.1, 86_400, "0.1 to 86400 s");
        var datagram = Flags.Int("--datagram", "Longest datagram buffered out of order (default 1400): at least the publisher's", 512, MulticastOptions.MaxDatagramSize);
        var command = new Command("sub", "Subscribe until --count messages arrived; prints 'joined GROUP', then a JSON line: received, in_order, duplicates, reordered, lost, unrecovered, checksum_ok, seconds, msg_per_s, naks_sent, cpu_s (user + system from the first message).");
        shared.AddTo(command);
        tuning.AddTo(command);
        foreach (var option in new Option[] { drop, seed, timeout, datagram })
        {
            command.Options.Add(option);
        }

        command.SetAction((result, cancellationToken) =>
        {
            var options = shared.Options(result);
            tuning.Apply(result, options);
            options.DiagnosticDropRate = result.GetValue(drop) ?? 0;
            options.DatagramSize = result.GetValue(datagram) ?? options.DatagramSize;
            options.DiagnosticDropSeed = result.GetValue(seed) ?? 1;
            options.Join = MulticastJoin.Beginning;
            options.MaxMessageSize = 64 << 20;
            return MulticastRuns.SubscribeAsync(
                io, options, shared.Topic(result), shared.Count(result), TimeSpan.FromSeconds(result.GetValue(timeout) ?? 60), cancellationToken);
        });
        return command;
    }

    /// <summary>The flags pub, sub and bench share.</summary>
    internal sealed class SharedFlags(ushort defaultNode)
    {
        private readonly Option<string?> _group = new("--group")
        {
            Description = "Multicast group and port (239.192.7.1:40100, [ff15::7]:40100)",
            Required = true,
            HelpName = "GROUP:PORT",
            CustomParser = r =>
            {
                var text = Flags.Single(r);
                if (!GroupAddress.TryParse(text, out _))
                {
                    r.AddError($"--group '{text}' is not valid; accepted: a multicast address and a port (239.192.7.1:40100, [ff15::7]:40100).");
                }

                return text;
            },
        };

        private readonly Option<string?> _interface = new("--interface") { Description = "Interface address or name to join and send on (default: the kernel's choice)" };
        private readonly Option<int?> _topic = Flags.Int("--topic", "Topic (default 1)", 0, 255);
        private readonly Option<int?> _count = Flags.Int("--count", "Messages (default 100000)", 1, int.MaxValue);
        private readonly Option<int?> _node = Flags.Int("--node", $"This process's node id (default {defaultNode})", 1, ushort.MaxValue);

        // The KCP transport's flag names; AEAD modes only (forged and replayed packets are dropped).
        private readonly Option<string?> _crypt = Flags.Choice(
            "--crypt", "Packet cipher, the same on every member (default none)", ["none", "aes-128-gcm", "aes-256-gcm", "chacha20-poly1305"]);

        private readonly Option<string?> _key = new("--key") { Description = $"Pre-shared secret of --crypt (default '{KcpFlags.DefaultKey}', kcptun's)" };
        private readonly Option<int?> _dataShards = Flags.Int("--datashard", "FEC data shards per group, with --parityshard (default 0: no FEC)", 0, 255);
        private readonly Option<int?> _parityShards = Flags.Int("--parityshard", "FEC parity shards per group (default 0: no FEC)", 0, 255);

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { _group, _interface, _topic, _count, _node, _crypt, _key, _dataShards, _parityShards })
            {
                command.Options.Add(option);
            }
        }

        public MulticastOptions Options(ParseResult result)
        {
            var crypt = result.GetValue(_crypt) ?? "none";
            var options = new MulticastOptions
            {
                Group = result.GetValue(_group),
                Interface = result.GetValue(_interface),
                NodeId = (ushort)(result.GetValue(_node) ?? defaultNode),
                Crypt = crypt,
                Key = crypt == "none" ? null : result.GetValue(_key) ?? KcpFlags.DefaultKey,
                DataShards = result.GetValue(_dataShards) ?? 0,
                ParityShards = result.GetValue(_parityShards) ?? 0,
            };
            Check(options);
            return options;
        }

        /// <summary>The options' own rules between settings (--datashard with --parityshard, --history × --datagram), as usage errors.</summary>
        public static void Check(MulticastOptions options)
        {
            try
            {
                options.Validate();
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new UsageException(e.Message);
            }
        }

        public byte Topic(ParseResult result) => (byte)(result.GetValue(_topic) ?? 1);

        public long Count(ParseResult result) => result.GetValue(_count) ?? 100_000;
    }
}

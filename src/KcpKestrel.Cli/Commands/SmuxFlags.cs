using System.CommandLine;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Client;

namespace KcpKestrel.Cli.Commands;

/// <summary>
/// kcptun's switches over the multiplexing settings: <c>--smux</c> (every session carries smux streams, each one a
/// connection of the app, compressed with snappy as kcptun does by default) and <c>--nocomp</c> (kcptun's name for no
/// compression). The settings themselves (--smuxver, --smuxbuf, --streambuf, --keepalive, --multiplexing,
/// --compression) are <see cref="KcpFlags"/>'. A client (bench) also gets the session pool's <c>--conn</c>,
/// <c>--autoexpire</c> and <c>--scavengettl</c>, in kcptun's units (seconds).
/// </summary>
internal sealed class SmuxFlags
{
    private readonly Option<bool> _smux = new("--smux")
    {
        Description = "Serve every smux stream of every KCP session as a connection (kcptun's layout; --multiplexing Smux), with snappy compression unless --nocomp",
    };

    private readonly Option<bool> _noComp = new("--nocomp")
    {
        Description = "No snappy compression (kcptun --nocomp; --compression None)",
    };

    private readonly Option<int?> _sessions = Flags.Int("--conn", "With --smux: KCP sessions per server that streams are spread over, round robin (kcptun --conn); default 1", 1, 256);

    private readonly Option<int?> _autoExpire = Flags.Int("--autoexpire", "With --smux: seconds a session takes new streams before a fresh one replaces it, 0 never (kcptun --autoexpire); default 0", 0, int.MaxValue / 2);

    private readonly Option<int?> _scavengeTtl = Flags.Int("--scavengettl", "With --smux and --autoexpire: seconds an expired session lives on for its open streams, then is closed (kcptun --scavengettl); default 600", 0, int.MaxValue / 2);

    private readonly bool _client;

    /// <param name="client">True for bench: adds the pool flags, which only a dialing side reads.</param>
    public SmuxFlags(bool client = false) => _client = client;

    public void AddTo(Command command)
    {
        command.Options.Add(_smux);
        command.Options.Add(_noComp);
        if (_client)
        {
            command.Options.Add(_sessions);
            command.Options.Add(_autoExpire);
            command.Options.Add(_scavengeTtl);
        }
    }

    /// <summary>Applies the switches to <paramref name="options"/>; an explicit --compression wins over --smux's default.</summary>
    public void Apply(ParseResult result, KcpFlags kcpFlags, KcpOptions options)
    {
        var compressionGiven = kcpFlags.WasGiven(result, nameof(KcpOptions.Compression));
        if (result.GetValue(_noComp))
        {
            if (compressionGiven && options.Compression != KcpCompression.None)
            {
                throw new UsageException("--nocomp conflicts with --compression " + options.Compression + ".");
            }

            options.Compression = KcpCompression.None;
        }
        else if (result.GetValue(_smux) && !compressionGiven)
        {
            options.Compression = KcpCompression.Snappy;
        }

        if (result.GetValue(_smux))
        {
            options.Multiplexing = KcpMultiplexing.Smux;
        }
    }

    /// <summary>The pool settings for a client; a pool flag without smux throws <see cref="UsageException"/>.</summary>
    public void ApplyPool(ParseResult result, bool smux, KcpClientOptions client)
    {
        var sessions = result.GetValue(_sessions);
        var autoExpire = result.GetValue(_autoExpire);
        var scavengeTtl = result.GetValue(_scavengeTtl);
        if (!smux)
        {
            var flag = sessions is not null ? "--conn" : autoExpire is not null ? "--autoexpire" : scavengeTtl is not null ? "--scavengettl" : null;
            if (flag is not null)
            {
                throw new UsageException($"{flag} applies only with --smux (without it every connection is a KCP session of its own).");
            }

            return;
        }

        client.SessionsPerEndpoint = sessions ?? client.SessionsPerEndpoint;
        client.AutoExpire = autoExpire is { } expire ? TimeSpan.FromSeconds(expire) : client.AutoExpire;
        client.ScavengeTtl = scavengeTtl is { } ttl ? TimeSpan.FromSeconds(ttl) : client.ScavengeTtl;
    }
}

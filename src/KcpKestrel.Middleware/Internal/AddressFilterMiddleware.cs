using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace KcpKestrel.Middleware.Internal;

/// <summary>
/// Refuses peers by IP/CIDR allow and deny lists. Fails closed: a bad entry stops start-up (an
/// <see cref="OptionsValidationException"/> naming it), and a reload with a bad entry is logged and
/// ignored, the previous rules staying in force.
/// </summary>
internal sealed class AddressFilterMiddleware : IDisposable
{
    private const string Message = "Connection refused: the peer's address is not allowed.";

    private readonly ConnectionDelegate _next;
    private readonly ConnectionInstruments _instruments;
    private readonly ConnectionTags _tags;
    private readonly ILogger _logger;
    private readonly List<IDisposable> _registrations = [];
    private volatile AddressRuleSet _rules;
    private long _refused;
    private long _reloadsRejected;

    /// <summary>Fixed rules (options set in code, already parsed).</summary>
    public AddressFilterMiddleware(ConnectionDelegate next, AddressRuleSet rules, ConnectionInstruments instruments, ConnectionTags tags, ILogger logger)
    {
        _next = next;
        _instruments = instruments;
        _tags = tags;
        _logger = logger;
        _rules = rules;
    }

    /// <summary>
    /// The named options, created through <paramref name="factory"/> (so registered validators run) and followed
    /// through their change-token sources; throws <see cref="OptionsValidationException"/> when they do not parse.
    /// The options monitor is not used: it caches and rethrows a failed reload, where the previous rules must stay.
    /// </summary>
    public AddressFilterMiddleware(
        ConnectionDelegate next,
        IOptionsFactory<AddressFilterOptions> factory,
        IEnumerable<IOptionsChangeTokenSource<AddressFilterOptions>> sources,
        string name,
        ConnectionInstruments instruments,
        ConnectionTags tags,
        ILogger logger)
        : this(next, Load(factory, name), instruments, tags, logger)
    {
        foreach (var source in sources)
        {
            if (string.Equals(source.Name ?? Options.DefaultName, name, StringComparison.Ordinal))
            {
                _registrations.Add(ChangeToken.OnChange(source.GetChangeToken, () => Reload(factory, name)));
            }
        }
    }

    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Reloads refused because an entry did not parse (each also logged as an error).</summary>
    public long ReloadsRejected => Interlocked.Read(ref _reloadsRejected);

    public Task OnConnectionAsync(ConnectionContext context)
    {
        var address = ConnectionTags.RemoteAddress(context);
        if (address is not null && !_rules.IsAllowed(address))
        {
            Interlocked.Increment(ref _refused);
            _instruments.Refuse(context, _tags, CloseReasons.AddressDenied, Message);
            return Task.CompletedTask;
        }

        return _next(context);
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }

    /// <summary>Keys entries of named options set without a configuration section: <c>AddressFilterOptions["name"].Allow[0]</c>.</summary>
    internal static Func<string, int, string?, string> NamedKey(string name) =>
        name.Length == 0 ? AddressRuleSet.CodeKey : (list, index, _) => $"{nameof(AddressFilterOptions)}[\"{name}\"].{list}[{index}]";

    private static AddressRuleSet Load(IOptionsFactory<AddressFilterOptions> factory, string name)
    {
        var options = factory.Create(name);
        return AddressRuleSet.TryParse(options, NamedKey(name), out var rules, out var errors)
            ? rules
            : throw new OptionsValidationException(name, typeof(AddressFilterOptions), errors);
    }

    private void Reload(IOptionsFactory<AddressFilterOptions> factory, string name)
    {
        AddressRuleSet rules;
        try
        {
            rules = Load(factory, name);
        }
        catch (OptionsValidationException e)
        {
            Interlocked.Increment(ref _reloadsRejected);
            foreach (var failure in e.Failures)
            {
                ConnectionLog.AddressRulesReloadRejected(_logger, name, failure);
            }

            return;
        }

        _rules = rules;
        ConnectionLog.AddressRulesReloaded(_logger, name, rules.AllowCount, rules.DenyCount);
    }
}
